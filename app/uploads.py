"""Every file the app takes goes through ``file_uploader``: one limit, the server's, stated once in the
student's language, and a photo over it made smaller in the browser before it is sent.

Streamlit's uploader states its limit in English ("15MB per file") and refuses a larger file with an
English error of its own. Here its statement is hidden and ours shown instead, with the same number
(``LIMIT_MB``: ``.streamlit/config.toml`` server.maxUploadSize and ``lessons.canvas.MAX_FILE_MB``).
A script in the page listens, before Streamlit does (the capture phase), for a file chosen or dropped
on an uploader: a picture over the limit, on an uploader that takes pictures, is drawn on a canvas at
most ``SHRINK_SIDE`` px on its long side (turned upright as its EXIF says) and handed to the uploader
as a JPEG under the limit; anything else over the limit (a large CSV, a picture the browser cannot
decode) is refused with the app's own message in the page's language, and nothing is sent.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from app.i18n import t
from lessons import canvas

LIMIT_MB = canvas.MAX_FILE_MB  # the one limit, in MB of 2**20 bytes as Streamlit counts them
PHOTO_TYPES = ["png", "jpg", "jpeg"]
# A photo's long side after shrinking: far more than one digit (or a number of several) needs (the
# draw page works at 1024 px), and a JPEG of it is a few MB at most.
SHRINK_SIDE = 3000
JPEG_QUALITIES = (0.92, 0.85, 0.75)  # tried in turn, each at a smaller side, until the file fits

# Hides Streamlit's own "15MB per file • PNG, JPG, JPEG" (ours is stated below the uploader). The script
# is installed once per tab; each run refreshes its words (the page's language may have changed).
_SCRIPT = """<style>[data-testid="stFileUploaderDropzoneInstructions"] { display: none !important; }</style>
<script>
(() => {
  const root = window;
  root.__dlUploads = Object.assign(root.__dlUploads || {}, %(settings)s);
  if (root.__dlUploadsInstalled) return;
  root.__dlUploadsInstalled = true;
  const doc = root.document;
  const UPLOADER = '[data-testid="stFileUploader"]';
  const mb = (bytes) => (bytes / 1048576).toFixed(1);
  const words = (key, file, extra) => root.__dlUploads.words[key]
    .replaceAll('{name}', file.name).replaceAll('{size}', mb(file.size)).replaceAll('{new}', extra ? mb(extra.size) : '');
  const note = (input, text, kind) => {
    const box = input.closest(UPLOADER);
    if (!box) return;
    box.querySelectorAll('.dl-upload-note').forEach((old) => old.remove());
    if (!text) return;
    const div = doc.createElement('div');
    div.className = 'dl-upload-note';
    div.dataset.kind = kind;
    div.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    div.textContent = text;
    div.style.cssText = 'margin-top:.5rem;padding:.5rem .75rem;border-radius:.5rem;font-size:.9rem;line-height:1.4;'
      + (kind === 'error' ? 'background:rgba(255,43,43,.09);color:inherit;border-left:4px solid #d00;'
                          : 'background:rgba(28,131,225,.08);color:inherit;border-left:4px solid #1c83e1;');
    box.appendChild(div);
  };
  const takesPictures = (input) => /image|png|jpe?g/i.test(input.getAttribute('accept') || '');
  const looksLikePicture = (file) => /^image\\//.test(file.type) || /\\.(png|jpe?g|webp|heic|heif|gif|bmp)$/i.test(file.name);
  const shrink = async (file) => {
    let picture;
    try {
      picture = await createImageBitmap(file, {imageOrientation: 'from-image'});
    } catch (err) {
      return null;
    }
    const {limit, side, qualities} = root.__dlUploads;
    let longSide = side;
    try {
      for (const quality of qualities) {
        const scale = Math.min(1, longSide / Math.max(picture.width, picture.height));
        const canvas = doc.createElement('canvas');
        canvas.width = Math.max(1, Math.round(picture.width * scale));
        canvas.height = Math.max(1, Math.round(picture.height * scale));
        const pen = canvas.getContext('2d');
        pen.fillStyle = '#ffffff';  // a transparent picture's clear pixels become paper, as the server reads them
        pen.fillRect(0, 0, canvas.width, canvas.height);
        pen.drawImage(picture, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise((done) => canvas.toBlob(done, 'image/jpeg', quality));
        if (blob && blob.size <= limit) {
          const name = file.name.replace(/\\.[^.]*$/, '') + '.jpg';
          return new File([blob], name, {type: 'image/jpeg', lastModified: file.lastModified});
        }
        longSide = Math.round(longSide * 0.75);
      }
    } catch (err) {
      return null;
    } finally {
      if (picture.close) picture.close();
    }
    return null;
  };
  const deliver = (input, files) => {
    const chosen = new DataTransfer();
    files.forEach((file) => chosen.items.add(file));
    input.files = chosen.files;
    input.__dlPassing = true;
    try {
      input.dispatchEvent(new Event('change', {bubbles: true}));
    } finally {
      input.__dlPassing = false;
    }
  };
  // The files over the limit made to fit, or refused (then nothing is sent and the student is told why).
  const handle = async (input, files) => {
    const limit = root.__dlUploads.limit;
    const out = [];
    for (const file of files) {
      if (file.size <= limit) {
        out.push(file);
        continue;
      }
      if (!(takesPictures(input) && looksLikePicture(file))) {
        note(input, words('refused', file), 'error');
        return;
      }
      note(input, words('shrinking', file), 'info');
      const smaller = await shrink(file);
      if (!smaller) {
        note(input, words('refused_photo', file), 'error');
        return;
      }
      note(input, words('shrunk', file, smaller), 'info');
      out.push(smaller);
    }
    deliver(input, out);
  };
  const over = (files) => Array.from(files || []).some((file) => file.size > root.__dlUploads.limit);
  root.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || input.__dlPassing || !input.closest(UPLOADER)) return;
    if (!over(input.files)) {
      note(input, '', '');
      return;
    }
    event.stopImmediatePropagation();
    const files = Array.from(input.files);
    input.value = '';
    handle(input, files);
  }, true);
  root.addEventListener('drop', (event) => {
    const zone = event.target instanceof Element && event.target.closest('[data-testid="stFileUploaderDropzone"]');
    const input = zone && zone.querySelector('input[type="file"]');
    if (!input || !event.dataTransfer || !over(event.dataTransfer.files)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    const files = Array.from(event.dataTransfer.files);
    // the drop never reaches the uploader, so end its "drop here" look as leaving would
    event.target.dispatchEvent(new DragEvent('dragleave', {bubbles: true}));
    handle(input, files.slice(0, input.multiple ? files.length : 1));
  }, true);
})();
</script>"""

SCRIPT_KEY = "dl_upload_script_"  # the hidden container of the page script, one per uploader
HIDE_SCRIPT_CSS = f'<style>[class*="st-key-{SCRIPT_KEY}"] {{display: none;}}</style>'

# The script's messages, by the name it uses for each.
WORDS = {"refused": "uploads.refused", "refused_photo": "uploads.refused_photo", "shrinking": "uploads.shrinking",
         "shrunk": "uploads.shrunk"}


def _script() -> str:
    """The page script with this run's limit and words (the file's name and sizes are filled in by it)."""
    fields = {"name": "{name}", "size": "{size}", "new": "{new}", "mb": LIMIT_MB}
    settings = {"limit": LIMIT_MB * 2**20, "side": SHRINK_SIDE, "qualities": list(JPEG_QUALITIES),
                "words": {word: t(key, **fields) for word, key in WORDS.items()}}
    return _SCRIPT % {"settings": json.dumps(settings, ensure_ascii=False).replace("</", "<\\/")}


def file_uploader(label: str, *, key: str, types: list[str] | None = None, help: str | None = None) -> Any:
    """``st.file_uploader`` with the app's limit stated below it in the page's language (Streamlit's own
    English one hidden), a photo over it shrunk in the browser, anything else over it refused there
    with our words. ``types``: the file endings taken (``PHOTO_TYPES`` for a photo), None for any."""
    # In place, in a container hidden by its CSS class: an uploader inside a fragment may not write to
    # the sidebar (Streamlit refuses a fragment's write outside it), and a script takes no room.
    st.html(HIDE_SCRIPT_CSS)
    with st.container(key=SCRIPT_KEY + "".join(c if c.isalnum() else "_" for c in key)):
        st.html(_script(), unsafe_allow_javascript=True)
    uploaded = st.file_uploader(label, type=types, key=key, help=help, max_upload_size=LIMIT_MB)
    photos = types is not None and set(types) <= set(PHOTO_TYPES)
    st.caption(t("draw.upload_limit" if photos else "uploads.limit_file", mb=LIMIT_MB))
    return uploaded
