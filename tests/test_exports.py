"""The public surface is small and deliberate: changing it must change this test."""

import callrec
import callrec.auth
import callrec.cli
import callrec.client
import callrec.emulator
import callrec.interop
import callrec.specs
import strategies


def test_callrec_exports() -> None:
    assert sorted(callrec.__all__) == [
        "Failure",
        "SpecError",
        "UnknownApiVersionError",
        "UnknownSchemaError",
        "__version__",
        "detect",
        "is_valid",
        "validate",
    ]


def test_specs_exports() -> None:
    assert sorted(callrec.specs.__all__) == [
        "Change",
        "VersionChanges",
        "api_versions",
        "changes",
        "consecutive",
        "enum_values",
        "error_schema",
        "examples",
        "fields",
        "has_schema",
        "profile",
        "requirements",
        "schema_document",
        "schema_id",
        "schema_names",
        "specs_root",
        "takes_api_version",
    ]


def test_cli_exports() -> None:
    assert callrec.cli.__all__ == ["main"]


def test_strategies_exports() -> None:
    assert sorted(strategies.__all__) == [
        "MUTATION_KINDS",
        "Mutation",
        "PAYLOADS",
        "call_locators",
        "callback_batches",
        "channel_affinities",
        "error_responses",
        "event_grid_batches",
        "identifiers",
        "mutations",
        "recording_file_status_updated_cloud_events",
        "recording_file_status_updated_data",
        "recording_file_status_updated_events",
        "recording_metadata",
        "recording_result_responses",
        "recording_state_changed_events",
        "recording_state_responses",
        "start_recording_failed_events",
        "start_recording_requests",
        "subscription_validation_events",
    ]


def test_auth_client_emulator_interop_exports() -> None:
    assert sorted(callrec.auth.__all__) == [
        "ConnectionString",
        "EMPTY_BODY_HASH",
        "SignatureError",
        "content_hash",
        "sign",
        "signature",
        "string_to_sign",
    ]
    assert sorted(callrec.client.__all__) == ["Client", "HmacAuth"]
    assert sorted(callrec.emulator.__all__) == [
        "EmulatorApp",
        "FAULTS",
        "Running",
        "Settings",
        "WELL_KNOWN_KEY",
        "build_app",
        "serve",
    ]
    assert sorted(callrec.interop.__all__) == [
        "EmulatorRedirectPolicy",
        "RECORDING_HOST_SUFFIXES",
        "emulator_client",
    ]


def test_every_exported_name_exists() -> None:
    for module in (
        callrec,
        callrec.specs,
        callrec.cli,
        callrec.auth,
        callrec.client,
        callrec.emulator,
        callrec.interop,
        strategies,
    ):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
