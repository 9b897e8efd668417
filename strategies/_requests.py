"""Requests: identifiers, call locators, channel affinity, start requests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from callrec.specs import enum_values, fields
from strategies._values import acs_raw_ids, https_urls, phone_numbers, server_call_ids, uuids

__all__ = ["call_locators", "channel_affinities", "identifiers", "start_recording_requests"]

JSON = dict[str, Any]


def _optional(strategies: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[JSON]:
    """A dict holding any subset of the given fields."""
    return st.fixed_dictionaries({}, optional=strategies)


def _cloud(schema: str, api_version: str | None) -> dict[str, st.SearchStrategy[Any]]:
    clouds = enum_values("CommunicationCloudEnvironmentModel", api_version)
    return {"cloud": st.sampled_from(clouds)} if "cloud" in fields(schema, api_version) else {}


def _typed_identifier(kind: str, api_version: str | None) -> st.SearchStrategy[tuple[str, JSON]]:
    """(raw id, sub-object) for one identifier kind."""
    if kind == "communicationUser":
        return acs_raw_ids().map(lambda raw: (raw, {"id": raw}))
    if kind == "phoneNumber":
        extra = {
            name: strategy
            for name, strategy in {"isAnonymous": st.booleans(), "assertedId": uuids()}.items()
            if name in fields("PhoneNumberIdentifierModel", api_version)
        }
        return st.tuples(phone_numbers(), _optional(extra)).map(
            lambda p: (f"4:{p[0]}", {"value": p[0], **p[1]})
        )
    if kind == "microsoftTeamsUser":
        extra = {
            "isAnonymous": st.booleans(),
            **_cloud("MicrosoftTeamsUserIdentifierModel", api_version),
        }
        return st.tuples(uuids(), _optional(extra)).map(
            lambda p: (f"8:orgid:{p[0]}", {"userId": p[0], **p[1]})
        )
    if kind == "microsoftTeamsApp":
        extra = _cloud("MicrosoftTeamsAppIdentifierModel", api_version)
        return st.tuples(uuids(), _optional(extra)).map(
            lambda p: (f"28:orgid:{p[0]}", {"appId": p[0], **p[1]})
        )
    if kind == "teamsExtensionUser":
        extra = {"resourceId": uuids(), **_cloud("TeamsExtensionUserIdentifierModel", api_version)}
        return st.tuples(uuids(), uuids(), _optional(extra)).map(
            lambda p: (f"8:acs:{p[0]}_{p[1]}", {"userId": p[0], "tenantId": p[1], **p[2]})
        )
    return acs_raw_ids().map(lambda raw: (raw, {}))  # unknown: rawId only


def identifiers(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """CommunicationIdentifierModel values of every kind the version has; `kind` sent or omitted."""
    kinds = enum_values("CommunicationIdentifierModelKind", api_version)

    def build(kind: str) -> st.SearchStrategy[JSON]:
        def assemble(parts: tuple[tuple[str, JSON], bool, bool]) -> JSON:
            (raw, typed), send_kind, send_raw = parts
            identifier: JSON = {}
            if send_raw or not typed:
                identifier["rawId"] = raw
            if send_kind:
                identifier["kind"] = kind
            if typed:
                identifier[kind] = typed
            return identifier

        return st.tuples(_typed_identifier(kind, api_version), st.booleans(), st.booleans()).map(
            assemble
        )

    return st.sampled_from(kinds).flatmap(build)


def call_locators(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """CallLocator values of the kinds the version has."""
    id_fields = {
        "groupCallLocator": "groupCallId",
        "serverCallLocator": "serverCallId",
        "roomCallLocator": "roomId",
    }
    kinds = [k for k in enum_values("CallLocatorKind", api_version) if k in id_fields]
    values = {
        "groupCallId": uuids(),
        "serverCallId": server_call_ids(),
        "roomId": st.integers(10**16, 10**17).map(str),
    }

    def build(kind: str) -> st.SearchStrategy[JSON]:
        field = id_fields[kind]
        return st.tuples(values[field], st.booleans()).map(
            lambda p: {field: p[0], **({"kind": kind} if p[1] else {})}
        )

    return st.sampled_from(kinds).flatmap(build)


def channel_affinities(api_version: str | None = None) -> st.SearchStrategy[list[JSON]]:
    """Up to five pins, each channel used once."""
    return st.lists(st.integers(0, 4), unique=True, max_size=5).flatmap(
        lambda channels: st.tuples(*(identifiers(api_version) for _ in channels)).map(
            lambda people: [
                {"channel": c, "participant": p} for c, p in zip(channels, people, strict=True)
            ]
        )
    )


def external_storages(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """Valid ExternalStorage objects in the shape the version has: GA's recordingStorageKind
    and recordingDestinationContainerUrl, or 2023-01-15-preview's storageType and
    blobStorage.containerUri (the union: either)."""
    present = set(fields("ExternalStorage", api_version))
    shapes = []
    if "recordingStorageKind" in present:
        shapes.append(
            st.builds(
                lambda kind, url, send_url: {
                    "recordingStorageKind": kind,
                    **({"recordingDestinationContainerUrl": url} if send_url else {}),
                },
                st.sampled_from(enum_values("RecordingStorageKind", api_version)),
                https_urls(),
                st.booleans(),
            )
        )
    if "storageType" in present:
        shapes.append(
            st.builds(
                lambda kind, url, send_url: {
                    "storageType": kind,
                    **({"blobStorage": {"containerUri": url}} if send_url else {}),
                },
                st.sampled_from(enum_values("RecordingStorageType", api_version)),
                https_urls(),
                st.booleans(),
            )
        )
    return st.one_of(shapes)


def start_recording_requests(api_version: str | None = None) -> st.SearchStrategy[JSON]:
    """Valid StartCallRecordingRequest bodies for the version (any option combination)."""
    present = set(fields("StartCallRecordingRequest", api_version))

    def nullable_enum(schema: str) -> st.SearchStrategy[Any]:
        return st.one_of(st.none(), st.sampled_from(enum_values(schema, api_version)))

    optional: dict[str, st.SearchStrategy[Any]] = {
        "recordingStateCallbackUri": https_urls(),
        "recordingContentType": nullable_enum("RecordingContentType"),
        "recordingChannelType": nullable_enum("RecordingChannelType"),
        "recordingFormatType": nullable_enum("RecordingFormatType"),
        "audioChannelParticipantOrdering": st.lists(identifiers(api_version), max_size=5),
        "channelAffinity": channel_affinities(api_version),
        "pauseOnStart": st.booleans(),
        "externalStorage": external_storages(api_version),
    }
    optional = {name: strategy for name, strategy in optional.items() if name in present}
    targets = [call_locators(api_version).map(lambda loc: {"callLocator": loc})]
    if "callConnectionId" in present:
        targets.append(uuids().map(lambda cid: {"callConnectionId": cid}))
    return st.tuples(st.one_of(targets), _optional(optional)).map(lambda p: {**p[0], **p[1]})
