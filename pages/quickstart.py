"""Placeholder until its lesson lands: says the page is coming, and renders."""

import streamlit as st

from pages import ui

ui.keep_language_in_url()
ui.page_header("quickstart")
st.info(ui.t("app.coming"))
