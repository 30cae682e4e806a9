"""A moto server with the local stack's extensions, one per test module that asks for it."""

from collections.abc import Iterator

import pytest

from tests.devstack.emulator import start_moto
from tests.devstack.ports import free_port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = start_moto(free_port())
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
