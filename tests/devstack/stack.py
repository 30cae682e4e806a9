"""The local stack as a context manager: emulator, Terraform apply, SAM's share, API.

    with DevStack(moto_port=0, api_port=0) as stack:
        httpx.post(f"{stack.api_url}/upload", ...)

Port 0 picks free ports. The parts, in the order they start:

- emulator.py: moto with our extensions, in this process, which then talks only
  to it (router.py routes its Lambda invocations to our handlers in-process);
- terraform_apply.py: environments/local (the same composition module as every
  AWS environment) applied into moto;
- application.py: SAM's share, every name and ARN read from the SSM
  parameters Terraform published: the processor function, whose handler runs
  in this process when moto's Step Functions engine calls it, and the Pipe
  runner and event delivery that stand in for those AWS services;
- api_process.py: the upload API under uvicorn in a child process, configured
  through the same environment variables as on AWS;
- web_server.py: the web app (services/web/dist) and its config.json, on its own port;
- stack_state.py: the state file `make token`, tests and the bench read.

stack_owner.py keeps it to one stack per state directory: a second one is
refused before it touches anything.

snapshot.py keeps the emulator's data across restarts: saved as the stack
stops, restored as it starts instead of the apply when Terraform's inputs are
unchanged (with the apply on top when they changed); `fresh` starts empty.

faults.py adds the end-to-end tests' fault injection (`fault_prefix`).

`reload_code` (make dev) restarts the API's worker and re-imports the
processor when their code changes; the emulator and its data stay.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from moto.server import ThreadedMotoServer

from ops.environment import PROJECT, local_client
from tests.devstack import cloudfront, faults, snapshot
from tests.devstack import definitions as d
from tests.devstack.api_process import launch_api, stop_api, wait_until_healthy
from tests.devstack.application import Application
from tests.devstack.emulator import start_moto_for_this_process
from tests.devstack.ports import HOST, ensure_port_free, free_port
from tests.devstack.router import LambdaRouter
from tests.devstack.stack_owner import claim_state_dir, release_state_dir
from tests.devstack.stack_state import DEFAULT_STATE_DIR, StackState, state_file, write_state
from tests.devstack.terraform_apply import WebOrigins, apply_local_environment
from tests.devstack.web_server import WEB_DIST, WebServer, app_config

if TYPE_CHECKING:
    from subprocess import Popen

log = logging.getLogger("devstack")


class DevStack:
    def __init__(
        self,
        *,
        moto_port: int = 5000,
        api_port: int = 8000,
        web_port: int = 0,
        state_dir: Path = DEFAULT_STATE_DIR,
        api_log_level: str = "info",
        fault_prefix: str | None = None,
        reload_code: bool = False,
        fresh: bool = False,
        keep_data: bool = True,
    ) -> None:
        self.moto_port = moto_port or free_port()
        self.api_port = api_port or free_port()
        self.web_port = web_port or free_port()
        # Absolute: Terraform runs with -chdir and would read a relative path from there.
        self.state_dir = state_dir.resolve()
        self._api_log_level = api_log_level
        self._fault_prefix = fault_prefix
        self._reload_code = reload_code
        self._fresh = fresh
        # Restore the emulator's data on start and save it on stop (snapshot.py).
        self._keep_data = keep_data
        self.restored: snapshot.Restored | None = None
        self._snapshot_key: snapshot.SnapshotKey | None = None
        self._router = LambdaRouter()
        self._moto: ThreadedMotoServer | None = None
        self._application: Application | None = None
        self._api: Popen[bytes] | None = None
        self._web: WebServer | None = None
        self.state: StackState | None = None
        # What this stack wrote and so may remove: never another stack's files.
        self._claimed = False
        self._wrote_state = False

    @property
    def moto_endpoint(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    def __enter__(self) -> DevStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> StackState:
        claim_state_dir(self.state_dir, moto_port=self.moto_port, api_port=self.api_port)
        self._claimed = True
        ensure_port_free(self.moto_port, "--moto-port / DEVSTACK_MOTO_PORT")
        ensure_port_free(self.api_port, "--api-port / DEVSTACK_API_PORT")
        ensure_port_free(self.web_port, "--web-port / DEVSTACK_WEB_PORT")
        # A browser reaches the emulator only from the web app (loopback.py).
        self._moto = start_moto_for_this_process(self.moto_port, web_origin=self.web_url)
        self.moto_port = self._moto.get_host_and_port()[1]
        if self._fault_prefix:
            faults.inject(self._router, self._fault_prefix)
        self._router.install()
        self._restore_or_apply()
        kept = self.restored.kept if self.restored else None
        self._application = Application(self.moto_endpoint, reload_processor=self._reload_code)
        self.state = self._application.deploy(
            self._router, self.api_url, kept.demo_password if kept else None
        )
        # The web app's origin is the one API Gateway's CORS lets call the API.
        self._api = launch_api(
            self.state,
            self.api_port,
            log_level=self._api_log_level,
            reload=self._reload_code,
            allowed_origins=(self.web_url,),
        )
        wait_until_healthy(f"{self.api_url}/health", self._api, timeout=60)
        self._web = WebServer(
            WEB_DIST, app_config(self.state), headers=self._security_headers(), port=self.web_port
        )
        self._web.start()
        self.state = replace(self.state, api_pid=self._api.pid, web_url=self.web_url)
        # Resume the Pipe after the last record it delivered, unless Terraform replaced the stream.
        position = kept.pipe_position if kept and kept.stream_arn == self.state.stream_arn else None
        self._application.start(self.state, position)
        write_state(self.state, self.state_dir)
        self._wrote_state = True
        return self.state

    def _security_headers(self) -> dict[str, str]:
        """The headers of the response-headers policy Terraform made, as CloudFront adds them."""
        assert self.state is not None
        client = local_client(self.state, "cloudfront")
        name = f"{PROJECT}-{d.ENVIRONMENT}-web"
        listed = client.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]
        configs = [
            item["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]
            for item in listed.get("Items", [])
            if item["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"] == name
        ]
        if len(configs) != 1:
            raise RuntimeError(f"Terraform made {len(configs)} response-headers policies {name}")
        return cloudfront.response_headers(configs[0])

    def _restore_or_apply(self) -> None:
        # The inputs as they are now, before the apply reads them: saved with the data on stop.
        web = WebOrigins(api_url=self.api_url, web_origin=self.web_url)
        self._snapshot_key = key = snapshot.snapshot_key(self.moto_endpoint, web.variables())
        if self._fresh:
            log.info("--fresh: the emulator starts empty; saved data is discarded")
        elif self._keep_data:
            self.restored = snapshot.restore(self.state_dir, key)
        if self.restored is not None and self.restored.infrastructure_matches:
            log.info(
                "emulator data restored from %s; Terraform's inputs are unchanged since it "
                "was saved: no apply (make dev ARGS=--fresh starts empty)",
                snapshot.snapshot_dir(self.state_dir),
            )
            return
        # From here the Terraform state changes: the snapshot would no longer match it.
        snapshot.discard(self.state_dir)
        if self.restored is not None:
            log.info("emulator data restored; Terraform's inputs changed: applying the changes")
        apply_local_environment(
            self.moto_endpoint, self.state_dir, web=web, keep_state=self.restored is not None
        )

    def _save_data(
        self, application: Application, state: StackState, key: snapshot.SnapshotKey
    ) -> None:
        """Snapshot the emulator once its executions have ended (bounded wait)."""
        running = application.running_executions(state.state_machine_arn, timeout=10)
        if running:
            log.warning(
                "saving the emulator's data with %d execution(s) still running, which will "
                "not finish after a restart: %s",
                len(running),
                ", ".join(running),
            )
        kept = snapshot.Kept(
            demo_password=state.password,
            stream_arn=state.stream_arn,
            pipe_position=application.pipe_position,
        )
        started = time.perf_counter()
        try:
            saved = snapshot.save(self.state_dir, key, kept)
        except Exception:  # the stack must still stop cleanly
            log.exception("could not save the emulator's data: the next start applies afresh")
            return
        log.info(
            "emulator data saved to %s in %.1f s; the next make dev restores it",
            saved,
            time.perf_counter() - started,
        )

    def stop(self) -> None:
        application, self._application = self._application, None
        if application is not None:
            application.stop()
        if self._web is not None:
            self._web.stop()
            self._web = None
        if self._api is not None:
            stop_api(self._api)
            self._api = None
        self._router.wait_for_async(timeout=2)
        key = self._snapshot_key
        if application is not None and self.state is not None and key and self._keep_data:
            self._save_data(application, self.state, key)
        self._router.uninstall()
        faults.withdraw(self._router)
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._wrote_state:
            state_file(self.state_dir).unlink(missing_ok=True)
            self._wrote_state = False
        if self._claimed:
            release_state_dir(self.state_dir)
            self._claimed = False
