"""A page's settings in its address (st.query_params): one link opens the same experiment for a whole room.

read_link and link_params are pure, so they are tested without a browser. A link only ever sets widget values,
each checked against what its widget accepts; a value that does not fit is named and the default kept.
"""
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from studio.session import address_params, plain

MAX_VALUE_LENGTH = 100


@dataclass(frozen=True)
class Setting:
    """One widget a link can set: its session-state key and the values it accepts."""
    key: str  # e.g. "train_lr_g"; the link calls it by the part after the first "_" ("lr_g")
    kind: type  # bool, int, float, str, or list (a multi-select of `choices`)
    choices: tuple = ()  # the allowed values of a select box or multi-select; () for free numbers
    low: float = None  # the number widget's range
    high: float = None

    @property
    def name(self):
        return self.key.split("_", 1)[1]

    def parse(self, text):
        """The widget value a link's text stands for, or ValueError with what the widget accepts."""
        if len(text) > MAX_VALUE_LENGTH:
            raise ValueError("is too long")
        if self.kind is list:
            values = [part for part in text.split(",") if part]
            unknown = [value for value in values if value not in self.choices]
            if unknown:
                raise ValueError(f"names {unknown[0][:40]!r}, not one of {', '.join(map(str, self.choices))}")
            return values
        if self.kind is bool:
            if text not in ("0", "1"):
                raise ValueError("is not 0 or 1")
            return text == "1"
        value = self._number(text) if self.kind in (int, float) else text
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"is not one of {', '.join(map(str, self.choices))}")
        elif self.low is not None and not self.low <= value <= self.high:
            raise ValueError(f"is not between {self.low:g} and {self.high:g}")
        return value

    def _number(self, text):
        try:
            value = self.kind(text)
        except ValueError:
            raise ValueError("is not a whole number" if self.kind is int else "is not a number") from None
        if not math.isfinite(value):
            raise ValueError("is not a finite number")
        return value

    def format(self, value):
        if self.kind is list:
            return ",".join(value)
        if self.kind is bool:
            return "1" if value else "0"
        return repr(float(value)) if self.kind is float else str(value)


def read_link(params, settings):
    """({key: value} for the link's parameters that fit their widget, [one sentence per parameter that does not]).
    `params`: {name: text}, or {name: [texts]} where a link repeats a name (the last one is taken, and said)."""
    by_name = {setting.name: setting for setting in settings}
    values, problems = {}, []
    for name, texts in params.items():
        setting = by_name.get(name)
        if setting is None:
            problems.append(f"the link's setting {name[:40]!r} is unknown here; ignored it")
            continue
        texts = [texts] if isinstance(texts, str) else list(texts)
        text = texts[-1]
        if len(texts) > 1:
            problems.append(f"the link sets {name} {len(texts)} times; took the last one, {text[:40]!r}")
        try:
            values[setting.key] = setting.parse(text)
        except ValueError as error:
            problems.append(f"the link's {name} {text[:40]!r} {error}; kept the default")
    return values, problems


def link_params(state, settings, defaults):
    """{name: text} of the settings whose value in `state` differs from `defaults`: a short link that still says
    everything (the page fills the rest in from the same defaults)."""
    return {setting.name: setting.format(state[setting.key]) for setting in settings
            if setting.key in state and state[setting.key] != defaults.get(setting.key)}


def share_link(page_url, params):
    """The page's address with its settings in it, to copy and hand out."""
    return f"{page_url or ''}?{urlencode(params)}" if params else (page_url or "")


def follow_link(settings, first=()):
    """Fill a page's settings in from its address: the (key, apply) pairs of `first` before the rest, each key
    followed by its function (a preset brings its own values). Returns a sentence for each value that did not fit."""
    values, problems = read_link(address_params(), settings)
    for key, apply in first:
        if key in values:
            st.session_state[key] = values.pop(key)
            apply()
    st.session_state.update(values)
    return problems


def show_problems(container, problems):
    for problem in problems:
        container.warning(plain(problem[0].upper() + problem[1:] + "."))


def keep_address(settings, defaults):
    """Keep the page's address in step with its settings (those that differ from `defaults`); returns them."""
    params = link_params(st.session_state, settings, defaults)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    return params


def ranged_number(column, label, key, ranges, **options):
    """A number input whose range is the page's table entry for its setting: the range links are checked against."""
    low, high = ranges[key.split("_", 1)[1]]
    return column.number_input(label, low, high, key=key, **options)
