import math

import pytest

from pctx_client import _protocol as wire
from pctx_client._client import _urls


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("http://localhost:8080", "ws://localhost:8080/ws"),
        ("http://localhost:8080/", "ws://localhost:8080/ws"),
        ("https://pctx.example", "wss://pctx.example/ws"),
        ("http://host:1/prefix", "ws://host:1/prefix/ws"),
        ("ws://127.0.0.1:9/ws", "ws://127.0.0.1:9/ws"),
        ("wss://h/custom", "wss://h/custom/ws"),
        ("ws://h", "ws://h/ws"),
    ],
)
def test_ws_url(url, want):
    assert _urls(url)[1] == want


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://h", "http://"])
def test_ws_url_refuses(url):
    with pytest.raises(ValueError, match=r"URL scheme|pctx url"):
        _urls(url)


def test_frames_are_compact_json():
    assert wire.request(1, "ping", {}) == '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}'
    assert wire.result("a", {"value": "é"}) == '{"jsonrpc":"2.0","id":"a","result":{"value":"é"}}'
    assert wire.error(3, -32000, "boom", {"type": "KeyError"}) == (
        '{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"boom","data":{"type":"KeyError"}}}'
    )
    assert wire.notification("cancel", {"id": 2}) == (
        '{"jsonrpc":"2.0","method":"cancel","params":{"id":2}}'
    )


def test_nan_is_not_json():
    with pytest.raises(ValueError, match="JSON"):
        wire.result(1, {"value": math.nan})
