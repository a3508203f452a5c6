"""The README's API examples run as written: every `curl` line of its bash blocks, through
bash and curl, against a gateway with the demo data, with the README's own officer."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.domain.cases import Kind
from bot.gateway import DB
from bot.services.cases import CaseDraft, file_case
from bot.services.demo import load_demo
from bot.services.users import create_user
from bot.settings import PROJECT_ROOT
from tests.conftest import RunningGateway, Tokens
from tests.integration.test_case_api import _file

README = PROJECT_ROOT / "README.md"
PLACEHOLDER_CODE = "AB12-CD34E"
# The Open311 example reads a public petition back: the test files one and puts its id here.
PUBLIC_CODE = "PQ12-RS34T"
# Examples that show an alternative to the one before them (refusing a case the previous line
# answered): run as written they meet the state the earlier lines left, and the API says so.
ALTERNATIVES = {'"to": "refused"': 409}


def commands(readme: Path = README) -> list[str]:
    """The README's curl commands, each as bash reads it (continued lines and multi-line
    quoted bodies joined)."""
    found: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(encoding="utf-8"), re.S):
        current = ""
        for line in block.splitlines():
            current = f"{current}\n{line}" if current else line
            if current.endswith("\\") or current.count("'") % 2:
                continue  # the command goes on
            if current.lstrip().startswith("curl "):
                found.append(current)
            current = ""
    return found


def test_the_readme_has_its_api_examples() -> None:
    found = commands()
    assert len(found) >= 12
    assert any('"$API/localities"' in c for c in found)
    assert any('-X POST "$API/explanations" -d' in c for c in found)
    assert any('-X POST "$OPEN311/requests.json"' in c for c in found)


async def _run(
    command: str, api: str, token: str, open311: str = "", open311_key: str = ""
) -> tuple[int, str]:
    script = (
        f"API={api}\nTOKEN={token}\nOPEN311={open311}\nOPEN311_KEY={open311_key}\n"
        "curl() { command curl --max-time 20 -w '\\n%{http_code}' \"$@\"; }\n" + command
    )
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (command, err.decode())
    body, _, status = out.decode().rpartition("\n")
    return int(status), body


async def test_every_curl_example_of_the_readme_works(
    offline_gateway: RunningGateway, tokens: Tokens
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    token = await create_user(db, "canbo1", "officer", "ubnd-phuong-demo")
    code = await _file(db, None)
    public = await file_case(
        db, CaseDraft(kind=Kind.PETITION, content="Cống tắc ở ngõ 5.", public=True), None
    )
    wrong = []
    for command in commands():
        expected = next((s for key, s in ALTERNATIVES.items() if key in command), None)
        command = command.replace(PLACEHOLDER_CODE, code)
        status, body = await _run(
            command.replace(PUBLIC_CODE, public.display_code),
            f"{gw.base_url}/api/v1",
            token,
            f"{gw.base_url}/open311/v2",
            tokens.open311,
        )
        if status != expected and not 200 <= status < 300:
            wrong.append(f"{status} {body[:300]}\n  from {command}")
        assert "\\u" not in body, body
    assert not wrong, "\n".join(wrong)
