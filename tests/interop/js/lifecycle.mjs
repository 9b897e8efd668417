// Drive a Call Recording endpoint (the callrec emulator) through the recording lifecycle with the
// official JS SDK, @azure/communication-call-automation 1.6.0, and print one JSON line per step.
//
//   node lifecycle.mjs [CONNECTION_STRING [SERVER_CALL_ID [RAW_ID ...]]]
//
// Arguments fall back to the environment:
//   CALLREC_CONNECTION_STRING  endpoint=http://127.0.0.1:PORT/;accesskey=...
//   CALLREC_SERVER_CALL_ID     the server call to record (an established call)
//   CALLREC_PARTICIPANTS       comma-separated raw ids of participants in that call (for channelAffinity)
//   CALLREC_SCENARIOS          comma-separated subset of the scenarios below (default: all, in order)
//   CALLREC_CALLBACK_URL       optional recordingStateCallbackEndpointUrl for every start
//   CALLREC_INTERACTIVE=1      after each line, wait for one line on stdin before going on (lets a
//                              test check the server between steps and move its clock)
//   CALLREC_SETTLE_MS          without CALLREC_INTERACTIVE: how long to poll for `active` (default 3000)
//   CALLREC_TIMEOUT_MS         give up after this long overall (default 60000)
//
// Per scenario: start, getState, (activation), getState, pause, getState, resume, getState, stop,
// then getState and stop again, which must fail (the recording is gone). Lines look like
//   {"scenario":"default","step":"getState","label":"paused","status":200,"recordingState":"inactive",...}
// and a last {"step":"done"}. Any unexpected error: a {"step":"error"} line, a message on stderr
// and exit status 1.

import { createInterface } from "node:readline";
import { CallAutomationClient } from "@azure/communication-call-automation";

const SCENARIOS = {
  default: () => ({}),
  "mixed-audio-wav": () => ({
    recordingContent: "audio",
    recordingChannel: "mixed",
    recordingFormat: "wav",
  }),
  "unmixed-audio-wav-affinity": (participants) => {
    if (participants.length === 0) {
      throw new Error("unmixed-audio-wav-affinity needs at least one participant raw id");
    }
    // Not simply "participant n on channel n": the last given goes to channel 0, the first to 2.
    const pins = [{ channel: 2, targetParticipant: identifier(participants[0]) }];
    if (participants.length > 1) {
      pins.push({ channel: 0, targetParticipant: identifier(participants.at(-1)) });
    }
    return {
      recordingContent: "audio",
      recordingChannel: "unmixed",
      recordingFormat: "wav",
      channelAffinity: pins,
    };
  },
  "pause-on-start": () => ({
    recordingContent: "audio",
    recordingChannel: "mixed",
    recordingFormat: "mp3",
    pauseOnStart: true,
  }),
};

/** A CommunicationIdentifier from a raw id (the kinds an emulator call usually holds). */
function identifier(rawId) {
  if (rawId.startsWith("4:")) {
    return { phoneNumber: rawId.slice(2) };
  }
  if (/^8:(acs|spool|dod-acs|gcch-acs):/.test(rawId)) {
    return { communicationUserId: rawId };
  }
  throw new Error(`unsupported participant raw id ${JSON.stringify(rawId)} (expected 8:acs:... or 4:+...)`);
}

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function fail(message, extra = {}) {
  emit({ step: "error", message, ...extra });
  process.stderr.write(`lifecycle.mjs: ${message}\n`);
  process.exit(1);
}

function describeError(error) {
  return {
    name: error?.name,
    statusCode: error?.statusCode,
    code: error?.code,
    message: String(error?.message ?? error).slice(0, 500),
  };
}

const [connectionString, serverCallId, ...rawIds] = [
  process.argv[2] ?? process.env.CALLREC_CONNECTION_STRING,
  process.argv[3] ?? process.env.CALLREC_SERVER_CALL_ID,
  ...(process.argv.length > 4
    ? process.argv.slice(4)
    : (process.env.CALLREC_PARTICIPANTS ?? "").split(",")),
];
const participants = rawIds.map((id) => id.trim()).filter(Boolean);
if (!connectionString || !serverCallId) {
  fail("usage: node lifecycle.mjs CONNECTION_STRING SERVER_CALL_ID [RAW_ID ...] (or CALLREC_* variables)");
}
const chosen = (process.env.CALLREC_SCENARIOS ?? Object.keys(SCENARIOS).join(","))
  .split(",")
  .map((name) => name.trim())
  .filter(Boolean);
const unknown = chosen.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0 || chosen.length === 0) {
  fail(`unknown scenario(s) ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);
}
const interactive = process.env.CALLREC_INTERACTIVE === "1";
const settleMs = Number(process.env.CALLREC_SETTLE_MS ?? 3000);
const timeoutMs = Number(process.env.CALLREC_TIMEOUT_MS ?? 60000);
const callbackUrl = process.env.CALLREC_CALLBACK_URL || undefined;

setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs).unref();

const stdinLines = interactive
  ? createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]()
  : undefined;

/** Print a line; in interactive mode, wait until the driver says to go on. */
async function report(line) {
  emit(line);
  if (stdinLines) {
    const next = await stdinLines.next();
    if (next.done) {
      fail("stdin closed while waiting to continue");
    }
  }
}

// The SDK as an app would set it up for a plain-HTTP local endpoint.
const client = new CallAutomationClient(connectionString, { allowInsecureConnection: true });
const recording = client.getCallRecording();

/** Run one SDK call: {status (HTTP), raw (the PipelineResponse), result}; SDK errors propagate. */
async function sdk(call) {
  let raw;
  const result = await call({ onResponse: (response) => (raw = response) });
  return { status: raw?.status, raw, result };
}

function stateOf(result) {
  return {
    recordingId: result.recordingId,
    recordingState: result.recordingState,
    recordingKind: result.recordingKind,
  };
}

async function getState(scenario, id, label, extra = {}) {
  const { status, result } = await sdk((options) => recording.getState(id, options));
  const line = { scenario, step: "getState", label, status, ...stateOf(result), ...extra };
  await report(line);
  return line;
}

/** Without a driver: poll until the recording turns active or the settle time is over. */
async function settle(id) {
  const deadline = Date.now() + settleMs;
  let polls = 0;
  for (;;) {
    polls += 1;
    const { result } = await sdk((options) => recording.getState(id, options));
    if (result.recordingState === "active" || Date.now() >= deadline) {
      return polls;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** An operation on a stopped recording: it must fail with a RestError, which is reported. */
async function mustFail(scenario, id, step, label, call) {
  try {
    const { status, result } = await sdk(call);
    fail(`${scenario}: ${step} after stop succeeded (HTTP ${status}) but the recording is gone`, {
      scenario,
      result: result ?? null,
    });
  } catch (error) {
    if (error?.name !== "RestError") {
      throw error;
    }
    await report({
      scenario,
      step,
      label,
      status: error.statusCode,
      recordingId: id,
      error: describeError(error),
    });
  }
}

async function lifecycle(scenario) {
  const options = {
    callLocator: { id: serverCallId, kind: "serverCallLocator" },
    ...SCENARIOS[scenario](participants),
  };
  if (callbackUrl) {
    options.recordingStateCallbackEndpointUrl = callbackUrl;
  }
  const started = await sdk((extra) => recording.start({ ...options, ...extra }));
  const request = started.raw.request;
  const id = started.result.recordingId;
  await report({
    scenario,
    step: "start",
    status: started.status,
    ...stateOf(started.result),
    request: {
      url: request.url,
      body: typeof request.body === "string" ? JSON.parse(request.body) : null,
      repeatabilityRequestId: request.headers.get("repeatability-request-id") ?? null,
      repeatabilityFirstSent: request.headers.get("repeatability-first-sent") ?? null,
    },
    repeatabilityResult: started.raw.headers.get("repeatability-result") ?? null,
  });
  if (!id) {
    fail(`${scenario}: start answered without a recordingId`);
  }
  await getState(scenario, id, "started");
  const polls = interactive ? undefined : await settle(id);
  await getState(scenario, id, "activated", polls === undefined ? {} : { polls });
  const paused = await sdk((extra) => recording.pause(id, extra));
  await report({ scenario, step: "pause", status: paused.status, recordingId: id });
  await getState(scenario, id, "paused");
  const resumed = await sdk((extra) => recording.resume(id, extra));
  await report({ scenario, step: "resume", status: resumed.status, recordingId: id });
  await getState(scenario, id, "resumed");
  const stopped = await sdk((extra) => recording.stop(id, extra));
  await report({ scenario, step: "stop", status: stopped.status, recordingId: id });
  await mustFail(scenario, id, "getState", "stopped", (extra) => recording.getState(id, extra));
  await mustFail(scenario, id, "stop", "again", (extra) => recording.stop(id, extra));
}

let current = "(setup)";
try {
  for (const scenario of chosen) {
    current = scenario;
    await lifecycle(scenario);
  }
  emit({ step: "done", scenarios: chosen });
  process.exit(0);
} catch (error) {
  const http = error?.statusCode === undefined ? "" : ` (HTTP ${error.statusCode}, code ${error.code ?? "none"})`;
  fail(`${current}: ${error?.name ?? "Error"}${http}: ${error?.message || "(no message)"}`, {
    scenario: current,
    error: describeError(error),
  });
}
