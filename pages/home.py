"""Home: the course map, with what each page teaches and a link to it."""

import streamlit as st

from app import ui

with ui.page("home", header=False):
    st.title(ui.t("app.title"))
    st.write(ui.t("home.intro"))

    sections: dict[str, list[ui.PageSpec]] = {}
    for spec in ui.LESSONS:
        sections.setdefault(spec.section, []).append(spec)

    for section, specs in sections.items():
        st.header(ui.t(section))
        columns = st.columns(2)
        for i, spec in enumerate(specs):
            with columns[i % 2].container(border=True, height="stretch"):
                st.subheader(f"{spec.icon} {ui.t(f'page.{spec.name}.title')}")
                st.write(ui.t(f"page.{spec.name}.blurb"))
                st.page_link(spec.path, label=ui.t("home.open"), query_params={"lang": ui.lang()})

    st.info(ui.t("home.teacher"))
