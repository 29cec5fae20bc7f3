"""Home: the course map, with what each page teaches and a link to it."""

import streamlit as st

from pages import ui

ui.keep_language_in_url()
st.title(ui.t("app.title"))
st.write(ui.t("home.intro"))

current_section = None
for spec in ui.LESSONS:
    if spec.section != current_section:
        current_section = spec.section
        st.header(ui.t(spec.section))
    with st.container(border=True):
        st.subheader(f"{spec.icon} {ui.t(f'page.{spec.name}.title')}")
        st.write(ui.t(f"page.{spec.name}.blurb"))
        st.page_link(spec.path, label=ui.t("home.open"), query_params={"lang": ui.lang()})

st.info(ui.t("home.teacher"))
