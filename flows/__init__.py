"""The application shell: Prefect flows, CLI, settings, HTTP and alert delivery."""

import os

# Prefect reads these at import. Offline, its telemetry only produces error logs that
# users mistake for failures of their run; a user's own setting still wins.
for _name, _value in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}.items():
    os.environ.setdefault(_name, _value)
