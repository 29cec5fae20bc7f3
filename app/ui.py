"""Everything a page uses, in one namespace: ``from app import ui``, then ``ui.t(...)``,
``with ui.page(PAGE, SETTINGS) as p:``, ``ui.show_chart(...)``, ``ui.show_vega(spec, data)``."""

from app.charts import loss_contour_chart, show_chart
from app.display import large_type, large_type_switch
from app.errors import caught
from app.i18n import LANG_KEY, choose_placeholder, lang, language_switch, t
from app.mnist_widgets import (
    SESSION_MODEL,
    data_banner,
    mnist_data,
    show_digits,
    show_loss,
    train_live,
    trained_model,
    trained_with_bar,
)
from app.registry import HOME, LESSONS, PAGES, PageSpec
from app.state import Page, Preset, Setting, fragment, page, share_caption, widget_key
from app.take_home import take_home
from app.vega import show as show_vega

__all__ = [
    "HOME", "LANG_KEY", "LESSONS", "PAGES", "SESSION_MODEL", "Page", "PageSpec", "Preset", "Setting", "caught", "choose_placeholder",
    "data_banner", "fragment", "lang", "language_switch", "large_type", "large_type_switch", "loss_contour_chart", "mnist_data", "page", "share_caption",
    "show_chart", "show_digits", "show_loss", "show_vega", "t", "take_home", "train_live", "trained_model", "trained_with_bar",
    "widget_key",
]
