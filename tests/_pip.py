"""pip without this machine's configuration, for the install tests."""

import os


def clean_pip_env():
    """No pip configuration of this machine (its local indexes, find-links, constraints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env
