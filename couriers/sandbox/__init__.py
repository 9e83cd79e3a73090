"""The sandbox courier: an HTTP courier API for tests and benches, and the adapter that speaks to it."""

from couriers.sandbox.adapter import SandboxConfig, SandboxCourier, new_webhook_secret
from couriers.sandbox.server import MOUNT_PATH, FeeTable, SandboxServer, SandboxServerConfig, standalone_app

__all__ = [
    "MOUNT_PATH",
    "FeeTable",
    "SandboxConfig",
    "SandboxCourier",
    "SandboxServer",
    "SandboxServerConfig",
    "new_webhook_secret",
    "standalone_app",
]
