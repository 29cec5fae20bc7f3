"""The pages of the app, in the course's order: the navigation and the home page's map read this."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page of the app: ``pages/<name>.py``, at URL ``/<name>``, in a section of the course."""

    name: str  # also the strings key stem: page.<name>.title / page.<name>.blurb
    icon: str
    section: str  # strings key of the navigation section

    @property
    def path(self) -> str:
        return f"pages/{self.name}.py"

    @property
    def url_path(self) -> str:
        # The file's own name: on a fresh server's very first request Streamlit resolves the URL
        # by file name (see app/streamlit_compat.py), so any other URL would be "not found".
        return self.name


HOME = PageSpec("home", "🏠", "app.section.home")
LESSONS: tuple[PageSpec, ...] = (
    PageSpec("quickstart", "⚡", "app.section.quick"),
    PageSpec("descent", "⛰️", "app.section.course"),
    PageSpec("noise", "🎲", "app.section.course"),
    PageSpec("regression", "📈", "app.section.course"),
    PageSpec("classification", "🧭", "app.section.course"),
    PageSpec("mnist_data", "🔢", "app.section.course"),
    PageSpec("mnist_network", "🧠", "app.section.course"),
    PageSpec("mnist_train", "🏋️", "app.section.course"),
    PageSpec("draw", "✍️", "app.section.course"),
    PageSpec("handwriting", "🖋️", "app.section.course"),
    PageSpec("classboard", "👩‍🏫", "app.section.course"),
)
PAGES: tuple[PageSpec, ...] = (HOME, *LESSONS)
