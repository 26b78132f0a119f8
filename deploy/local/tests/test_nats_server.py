from __future__ import annotations

from pathlib import Path

import nats
from sodan_devstack.nats import NatsServer


async def test_a_private_nats_server_answers_jetstream(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats", log_file=tmp_path / "nats.log").start()
    try:
        nc = await nats.connect(server.url)
        try:
            info = await nc.jetstream().account_info()
            assert info.limits is not None
        finally:
            await nc.close()
        config = (tmp_path / "nats" / "nats-server.conf").read_text()
        assert "sync_interval: always" in config
    finally:
        server.stop()
    assert server.process is None
