"""The README's shell blocks as a script: found in order, marked ones set aside, rewritten for a test server.

A block that needs an outside service (an account, Docker, a cluster, root) carries an HTML comment on the line
just above its fence, `<!-- readme: needs a GHN account -->`; every other ```sh block must run as written.
The only rewrites are those that put the reader's machine in the test's place: the server it started on
localhost:8000 is the test's server on its free port, `.venv/bin/` is the test's interpreter's folder, and
`./dev serve &` is already done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARK = re.compile(r"^<!--\s*readme:\s*(?P<reason>.+?)\s*-->\s*$")
_SERVE = re.compile(r"^\s*\./dev serve\b[^#]*&")
# What a test machine cannot be asked to do: a block using one of these must carry its reason.
OUTSIDE = re.compile(r"\b(docker|kubectl|apt-get|sudo)\b|deploy/stack\.sh|\./dev (setup|test)\b")


@dataclass(frozen=True)
class Block:
    line: int  # README line of the block's first command
    heading: str  # the section it is in
    code: str
    needs: str | None  # why it cannot run here, from its `<!-- readme: ... -->` mark


def shell_blocks(text: str) -> list[Block]:
    """Every ```sh block, in order, with its section and its mark if any."""
    lines = text.splitlines()
    found: list[Block] = []
    heading, i = "", 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            if lines[i].startswith("#"):
                heading = lines[i].lstrip("#").strip()
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), len(lines))
        if fence.group(1) == "sh":
            above = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            mark = _MARK.match(above.strip())
            code = "\n".join(lines[i + 1 : end]) + "\n"
            found.append(Block(i + 2, heading, code, mark.group("reason") if mark else None))
        i = end + 1
    return found


def rewrite(code: str, port: int, bin_dir: Path) -> str:
    out = []
    for line in code.splitlines():
        if _SERVE.match(line):
            line = ": ./dev serve: the test started the server"
        out.append(line.replace("localhost:8000", f"localhost:{port}").replace(".venv/bin/", f"{bin_dir}/"))
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Script:
    text: str
    readme_lines: dict[int, int]  # script line -> README line, to say where a failure is

    def where(self, script_line: int) -> int | None:
        return self.readme_lines.get(script_line)


MARKER = "@@readme-block {}@@"


def script(blocks: list[Block], port: int, bin_dir: Path) -> Script:
    """One bash script running the blocks in order in one shell, each announced on stdout by MARKER."""
    lines = [
        "set -euo pipefail",
        """trap 'echo "@@failed at script line $LINENO@@" >&2' ERR""",
    ]
    where: dict[int, int] = {}
    for index, block in enumerate(blocks):
        lines.append(f"echo '{MARKER.format(index)}'")
        for offset, line in enumerate(rewrite(block.code, port, bin_dir).splitlines()):
            lines.append(line)
            where[len(lines)] = block.line + offset
    return Script("\n".join(lines) + "\n", where)


def outputs(stdout: str, blocks: list[Block]) -> dict[str, str]:
    """What the blocks printed, per section (blocks of one section joined)."""
    per_section: dict[str, str] = {}
    parts = re.split(r"^@@readme-block (\d+)@@$", stdout, flags=re.M)
    for index, printed in zip(parts[1::2], parts[2::2], strict=True):
        heading = blocks[int(index)].heading
        per_section[heading] = per_section.get(heading, "") + printed
    return per_section
