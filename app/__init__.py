"""The app's shared UI: what the pages in ``pages/`` build on. The maths lives in ``lessons/``.

A page reads ``from app import ui`` and then ``with ui.page(PAGE, SETTINGS) as p: ...``;
``app/ui.py`` lists everything a page may use. Only ``app/streamlit_compat.py`` touches
Streamlit's internals.
"""
