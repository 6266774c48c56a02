"""The application shell: Prefect flows, CLI, settings, HTTP and alert delivery."""

import os

# Prefect reads these at import; a user's own setting still wins.
_DEFAULTS = {
    # Offline, telemetry only produces error logs that users mistake for failed runs.
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The first start of the local API migrates its database: over 20 s on a busy
    # two-core machine, which is Prefect's default limit.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
