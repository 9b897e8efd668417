// Download and delete a finished recording's content with the official JS SDK,
// @azure/communication-call-automation 1.6.0, against a Call Recording endpoint (the callrec
// emulator), and print one JSON line per step.
//
//   node content.mjs [CONNECTION_STRING [CONTENT_LOCATION [DELETE_LOCATION [OUT_PATH]]]]
//
// Arguments fall back to the environment:
//   CALLREC_CONNECTION_STRING  endpoint=http://127.0.0.1:PORT/;accesskey=...
//   CALLREC_CONTENT_LOCATION   a chunk's contentLocation (https://<x>.asm.skype.com/v1/objects/<id>/content/<kind>)
//   CALLREC_DELETE_LOCATION    the same chunk's deleteLocation (https://<x>.asm.skype.com/v1/objects/<id>)
//   CALLREC_OUT_PATH           where downloadToPath writes the file
//   CALLREC_RANGE              "offset,length" for downloadStreaming (default "100,1000"; the SDK
//                              refuses a length with offset 0)
//   CALLREC_TIMEOUT_MS         give up after this long overall (default 60000)
//
// SDK 1.6.0 accepts only https URLs on recording-storage hosts (utli/recordingUrlValidator.js).
// It signs a download or delete for the resource endpoint (path of the location, host of the
// endpoint, also sent as x-ms-host), then its CustomSignUrlPolicy puts the location back as the
// URL and its host in a Host header. So the client below gets a custom httpClient that sends
// requests for storage hosts to the endpoint of the connection string, keeping path and query
// (the JS counterpart of callrec.interop.EmulatorRedirectPolicy); the Host header stays as the
// SDK set it.
//
// Steps: downloadToPath, downloadStreaming with {offset, length}, delete, then downloadToPath and
// delete again, which must fail (the document is gone). Lines look like
//   {"step":"downloadToPath","path":"...","bytes":64044,"sha256":"...","requests":[...]}
// where each request is what the SDK sent: {method, url (as the SDK addressed it), sentTo,
// host, xMsHost, range, status}. A failed step reports what the SDK threw:
//   {"step":"downloadAfterDelete","error":{"type":"object","status":404,...},"requests":[...]}
// and a last {"step":"done"}. Any unexpected error: a {"step":"error"} line, a message on stderr
// and exit status 1.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createDefaultHttpClient } from "@azure/core-rest-pipeline";
import { CallAutomationClient } from "@azure/communication-call-automation";

// The host suffixes SDK 1.6.0 accepts for download and delete URLs.
const STORAGE_HOST_SUFFIXES = [".asm.skype.com", ".asyncgw.teams.microsoft.com", ".ams.gov.teams.microsoft.us"];

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function fail(message, extra = {}) {
  emit({ step: "error", message, ...extra });
  process.stderr.write(`content.mjs: ${message}\n`);
  process.exit(1);
}

/** What was thrown, whatever it is: SDK 1.6.0 throws plain objects ({status}) for content errors. */
function describeThrown(thrown) {
  const isObject = typeof thrown === "object" && thrown !== null;
  return {
    type: thrown instanceof Error ? thrown.constructor.name : typeof thrown,
    name: isObject ? (thrown.name ?? null) : null,
    status: isObject ? (thrown.status ?? null) : null,
    statusCode: isObject ? (thrown.statusCode ?? null) : null,
    code: isObject ? (thrown.code ?? null) : null,
    message: String((isObject ? thrown.message : thrown) ?? "").slice(0, 500),
    keys: isObject ? Object.keys(thrown).sort() : [],
  };
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

const [connectionString, contentLocation, deleteLocation, outPath] = [2, 3, 4, 5].map(
  (index, n) =>
    process.argv[index] ??
    process.env[
      ["CALLREC_CONNECTION_STRING", "CALLREC_CONTENT_LOCATION", "CALLREC_DELETE_LOCATION", "CALLREC_OUT_PATH"][n]
    ],
);
if (!connectionString || !contentLocation || !deleteLocation || !outPath) {
  fail("usage: node content.mjs CONNECTION_STRING CONTENT_LOCATION DELETE_LOCATION OUT_PATH (or CALLREC_* variables)");
}
const [offset, length] = (process.env.CALLREC_RANGE ?? "100,1000").split(",").map(Number);
if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 1 || length < 1) {
  fail(`CALLREC_RANGE must be "offset,length" with both >= 1, not ${JSON.stringify(process.env.CALLREC_RANGE)}`);
}
const timeoutMs = Number(process.env.CALLREC_TIMEOUT_MS ?? 60000);
setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs).unref();

const endpoint = new URL(/endpoint=([^;]+)/i.exec(connectionString)?.[1] ?? fail("no endpoint= in the connection string"));
const endpointPrefix = endpoint.pathname.replace(/\/+$/, "");

/** Requests of the current step, as the SDK sent them. */
let requests = [];

/** An httpClient that sends requests for recording-storage hosts to the endpoint instead. */
function redirectingHttpClient() {
  const inner = createDefaultHttpClient();
  return {
    async sendRequest(request) {
      const asked = new URL(request.url);
      const host = asked.hostname.toLowerCase();
      if (STORAGE_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
        request.url = `${endpoint.origin}${endpointPrefix}${asked.pathname}${asked.search}`;
        request.allowInsecureConnection = endpoint.protocol === "http:";
      }
      const entry = {
        method: request.method,
        url: asked.href,
        sentTo: request.url,
        host: request.headers.get("host") ?? null,
        xMsHost: request.headers.get("x-ms-host") ?? null,
        range: request.headers.get("range") ?? null,
        status: null,
      };
      requests.push(entry);
      const response = await inner.sendRequest(request);
      entry.status = response.status;
      return response;
    },
  };
}

const client = new CallAutomationClient(connectionString, {
  allowInsecureConnection: true,
  httpClient: redirectingHttpClient(),
});
const recording = client.getCallRecording();

/** Run one step; its line carries what it returned and the requests it sent. */
async function step(name, action) {
  requests = [];
  const result = await action();
  emit({ step: name, ...result, requests });
}

/** A step that must fail: report what the SDK threw. */
async function mustFail(name, action) {
  requests = [];
  let thrown;
  try {
    await action();
  } catch (error) {
    thrown = { error: describeThrown(error) };
  }
  if (thrown === undefined) {
    fail(`${name} succeeded but the document was deleted`, { requests });
  }
  emit({ step: name, ...thrown, requests });
}

async function streamed(stream) {
  const parts = [];
  for await (const part of stream) {
    parts.push(Buffer.from(part));
  }
  return Buffer.concat(parts);
}

let current = "(setup)";
try {
  current = "downloadToPath";
  await step(current, async () => {
    await recording.downloadToPath(contentLocation, outPath);
    const bytes = await readFile(outPath);
    return { path: outPath, bytes: bytes.length, sha256: sha256(bytes) };
  });
  current = "downloadStreaming";
  await step(current, async () => {
    const bytes = await streamed(await recording.downloadStreaming(contentLocation, { offset, length }));
    return { offset, length, bytes: bytes.length, sha256: sha256(bytes), base64: bytes.toString("base64") };
  });
  current = "delete";
  await step(current, async () => {
    await recording.delete(deleteLocation);
    return {};
  });
  current = "downloadAfterDelete";
  await mustFail(current, () => recording.downloadToPath(contentLocation, `${outPath}.after-delete`));
  current = "deleteAfterDelete";
  await mustFail(current, () => recording.delete(deleteLocation));
  emit({ step: "done" });
  process.exit(0);
} catch (error) {
  const thrown = describeThrown(error);
  fail(`${current}: ${thrown.type} ${thrown.name ?? ""} (status ${thrown.status ?? thrown.statusCode}): ${thrown.message || "(no message)"}`, {
    failedStep: current,
    error: thrown,
    requests,
  });
}
