"""One upload limit everywhere: the uploaders', Streamlit's server's, nginx's under `make class`, the
photo reader's; stated by the app in the page's language (the browser side is tests/e2e/test_uploads.py)."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from conftest import ROOT, open_page

from app import uploads
from app.i18n import STRINGS
from lessons import canvas

PAGES_WITH_UPLOADS = [
    ("pages/draw.py", {"model": "course", "source": "photo"}, "draw.upload_limit"),
    ("pages/regression.py", {"data": "upload"}, "uploads.limit_file"),
]


def test_the_limit_is_one_number_for_the_uploader_the_server_nginx_and_the_photo_reader(tmp_path):
    from serve import class_server

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert uploads.LIMIT_MB == server == canvas.MAX_FILE_MB == class_server.upload_limit_mb()
    conf = class_server.render_nginx_conf(tmp_path, "127.0.0.1:8600", [8601])
    body = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert server < body <= server + 2  # the upload and its form's few bytes pass; nothing much larger


def test_every_uploader_in_the_app_goes_through_the_shared_helper():
    callers = [path for path in [*ROOT.glob("app/*.py"), *ROOT.glob("pages/*.py")]
               if "st.file_uploader(" in path.read_text(encoding="utf-8")]
    assert callers == [ROOT / "app" / "uploads.py"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_script_speaks_the_pages_language_with_the_servers_limit(lang, monkeypatch):
    monkeypatch.setattr(uploads, "t", lambda key, **f: STRINGS[key][lang].format(**f))
    script = uploads._script()
    settings = json.loads(re.search(r"Object\.assign\(root\.__dlUploads \|\| \{\}, (\{.*?\})\);", script).group(1))
    assert settings["limit"] == uploads.LIMIT_MB * 2**20 and settings["side"] == uploads.SHRINK_SIDE
    for word, key in uploads.WORDS.items():
        said = settings["words"][word]
        assert said == STRINGS[key][lang].replace("{mb}", str(uploads.LIMIT_MB))
        assert "{mb}" not in said  # the page fills in only the file's own name and sizes
    assert '[data-testid="stFileUploaderDropzoneInstructions"] { display: none' in script  # Streamlit's English limit


@pytest.mark.parametrize(("path", "query", "key"), PAGES_WITH_UPLOADS)
def test_each_uploader_states_the_limit_once_in_the_pages_language(path, query, key, request):
    if path == "pages/draw.py":
        request.getfixturevalue("offline_mnist")  # the page reads with a class model: the quick offline one
    at = open_page(path, lang="zh", query=query, timeout=180)
    assert not at.exception
    uploader = at.get("file_uploader")[0]
    assert uploader.proto.max_upload_size_mb == uploads.LIMIT_MB
    stated = STRINGS[key]["zh"].format(mb=uploads.LIMIT_MB)
    assert [c.value for c in at.caption].count(stated) == 1
    assert any("__dlUploads" in h.proto.body for h in at.get("html"))

