"""What the login gate costs a callback, and what a login costs.

Serves the app over the unit tests' small warehouse through Flask's test client and posts one
cheap callback (the Overview's segment-value options) many times as a logged-in analyst:

* **gated**: as Plumbline serves it (session cookie checked, account looked up, the
  callback's declared role compared);
* **baseline**: the same app and request with the gate's ``before_request`` hook removed,
  measured in the same run, interleaved.

Also times a login (argon2id verify at the production cost) and a refused callback. Prints
medians, p95 and the ratio gated / baseline.

    python benchmarks/bench_gate.py [--repeat 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.warehouse import Warehouse  # noqa: E402
from tests.auth import PASSWORD, callback_request, ensure_users, logged_in_client  # noqa: E402
from tests.unit.app.conftest import (  # noqa: E402
    FakeStartRun,
    synthetic_facts,
    write_history,
    write_serving_facts,
)


def _ms(samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)
    return f"median {statistics.median(samples):7.3f} ms   p95 {p95:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "warehouse.duckdb")
        write_history(wh)
        write_serving_facts(wh, synthetic_facts())
        ensure_users(wh)
        gated = create_app(load_settings(data_dir=tmp), wh, FakeStartRun())
        body = callback_request(gated, "update_value_options", {"overview-segment.value": "plan"})
        client = logged_in_client(gated.server, "ana")
        gate = next(f for f in gated.server.before_request_funcs[None] if f.__name__ == "gate")

        def post() -> float:
            started = time.perf_counter()
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code == 200, response.status_code
            return (time.perf_counter() - started) * 1000

        for _ in range(20):  # warm caches, imports and the account lookup
            post()
        with_gate, without_gate = [], []
        hooks = gated.server.before_request_funcs[None]
        for _ in range(args.repeat):
            with_gate.append(post())
            hooks.remove(gate)
            without_gate.append(post())
            hooks.append(gate)

        refused = []
        executive = logged_in_client(gated.server, "erin")
        admin_body = callback_request(gated, "update_users", {})
        for _ in range(50):
            started = time.perf_counter()
            assert executive.post("/_dash-update-component", json=admin_body).status_code == 403
            refused.append((time.perf_counter() - started) * 1000)

        from pipeline import accounts

        logins = []
        for _ in range(10):
            started = time.perf_counter()
            assert accounts.authenticate(wh, "ana", PASSWORD) is not None
            logins.append((time.perf_counter() - started) * 1000)
        wh.close()

    sys.stdout.write(f"callback through the gate : {_ms(with_gate)}\n")
    sys.stdout.write(f"same callback, no gate    : {_ms(without_gate)}\n")
    ratio = statistics.median(with_gate) / statistics.median(without_gate)
    sys.stdout.write(f"ratio gated / baseline    : {ratio:.2f}x  (n={args.repeat} each)\n")
    sys.stdout.write(f"refused callback (403)    : {_ms(refused)}\n")
    sys.stdout.write(f"login (argon2id verify)   : {_ms(logins)}\n")


if __name__ == "__main__":
    main()
