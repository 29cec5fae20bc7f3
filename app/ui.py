"""Everything a page uses, in one namespace: ``from app import ui``, then ``ui.t(...)``,
``with ui.page(PAGE, SETTINGS) as p:``, ``ui.show_chart(...)``, ``ui.show_vega(spec, data)``."""

from app.a11y import announce, digit_alt
from app.charts import show_chart
from app.display import large_type, large_type_switch
from app.errors import caught
from app.i18n import LANG_KEY, choose_placeholder, lang, language_switch, t
from app.mnist_widgets import (
    SESSION_MODEL,
    data_banner,
    show_digits,
    show_loss,
    train_live,
    trained_with_bar,
)
from app.player import Player, player
from app.registry import HOME, LESSONS, PAGES, PageSpec
from app.state import Page, Preset, Setting, fragment, page, share_caption, widget_key
from app.take_home import take_home
from app.training import mnist_data, trained_model
from app.vega import show as show_vega

__all__ = [
    "HOME", "LANG_KEY", "announce", "LESSONS", "PAGES", "SESSION_MODEL", "Page", "PageSpec", "Player", "Preset", "Setting", "caught", "choose_placeholder",
    "data_banner", "digit_alt", "fragment", "lang", "language_switch", "large_type", "large_type_switch", "mnist_data", "page", "player", "share_caption",
    "show_chart", "show_digits", "show_loss", "show_vega", "t", "take_home", "train_live", "trained_model", "trained_with_bar",
    "widget_key",
]
