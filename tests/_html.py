"""A small HTML reader for the report tests (stdlib html.parser): every element with its
attributes and its own text, so tests can find what a user sees and what a figure encodes."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "line", "circle", "path"}


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(el)
        if tag not in VOID:
            self._stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        while self._stack:
            el = self._stack.pop()
            if el["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self._stack:
            el["text"] += data


def parse(html: str) -> list[dict]:
    p = Elements()
    p.feed(html)
    return p.elements


def with_attr(elements: list[dict], name: str, value: str | None = None) -> list[dict]:
    return [e for e in elements if name in e["attrs"] and (value is None or e["attrs"][name] == value)]


def with_class(elements: list[dict], cls: str) -> list[dict]:
    return [e for e in elements if cls in (e["attrs"].get("class") or "").split()]
