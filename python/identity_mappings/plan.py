"""
The plan document: what `npm run --silent summary -- '<link>' --plan` prints (src/model/planExport.ts). A link is
resolved by the repository's own code (the schema and the link codec live in TypeScript, once), so `--link` needs
Node.js and this checkout; `--plan FILE` takes that output saved earlier, for machines without Node.js.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Optional

PLAN_VERSION = 1

# python/identity_mappings/plan.py → the repository root.
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_data_dir(dataset: str) -> str:
    """Where `npm run data` writes a dataset: $PLAYGROUND_DATA_DIR/<dataset>, else data/<dataset> of this checkout."""
    return os.path.join(os.environ.get("PLAYGROUND_DATA_DIR") or os.path.join(REPO, "data"), dataset)


class PlanError(Exception):
    """A link or plan that cannot be trained; the message says why in one sentence."""


def check_plan(doc: dict, where: str) -> dict:
    """The plan of a summary (or a bare plan); refuses a link with problems and a plan of another version."""
    problems = doc.get("problems") or []
    if problems:
        listed = "; ".join(f"{p['key']}={p['value']}: {p['reason']}" for p in problems)
        raise PlanError(f"the link has refused keys, nothing was run: {listed}")
    plan = doc.get("plan", doc)
    version = plan.get("planVersion")
    if version != PLAN_VERSION:
        raise PlanError(
            f"{where} is plan version {version!r}, this package reads version {PLAN_VERSION}"
            + ("" if version is not None else " (make it with: npm run --silent summary -- '<link>' --plan)")
        )
    return plan


def resolve_link(link: str, repo: str = REPO) -> dict:
    """The plan of a link, resolved by `npm run --silent summary -- <link> --plan` in the repository."""
    npm = shutil.which("npm")
    if npm is None or not os.path.isfile(os.path.join(repo, "package.json")):
        raise PlanError(
            "resolving a link needs Node.js (npm) and this repository's checkout; elsewhere pass --plan FILE, made "
            "with: npm run --silent summary -- '<link>' --plan > plan.json"
        )
    r = subprocess.run([npm, "run", "--silent", "summary", "--", link, "--plan"], cwd=repo, capture_output=True, text=True)
    if r.returncode != 0:
        raise PlanError(f"npm run summary failed: {r.stderr.strip() or r.stdout.strip()}")
    return check_plan(json.loads(r.stdout), f"the summary of {link}")


def read_plan(path: str) -> dict:
    """The plan in a file written by `npm run --silent summary -- '<link>' --plan > FILE`."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise PlanError(f"cannot read the plan {path} ({e})") from e
    return check_plan(doc, path)


def load_plan(link: Optional[str], path: Optional[str]) -> dict:
    if (link is None) == (path is None):
        raise PlanError("give exactly one of --link '<link>' and --plan FILE")
    return resolve_link(link) if link is not None else read_plan(path)


def micro_batch(config: dict, per_process: int) -> int:
    """Images per micro-batch (each with its own BN statistics) in a per-process slice of `per_process` images.

    `microBatch` is `auto` (the whole slice; also what a config without the key means) or an integer m dividing it."""
    m = config.get("microBatch", "auto")
    if m in (None, "auto", 0):
        return per_process
    m = int(m)
    if m < 1 or per_process % m != 0:
        raise PlanError(f"microBatch={m} does not divide the {per_process} images each process takes of batch={config['batch']}")
    return m
