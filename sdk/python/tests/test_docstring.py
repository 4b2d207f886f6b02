import pytest

from pctx_client._docstring import parse_docstring

GOOGLE = """Update customer risk score in database.

    Writes the score and logs it.

    Args:
        customer_id: The customer's id,
            as Stripe knows it.
        score (float): Risk in [0, 1].
        **extra: ignored.

    Returns:
        Nothing useful.
    """

NUMPY = """Predict churn.

    Parameters
    ----------
    customer_id : str
        The customer.
    horizon : int, optional
        Days ahead.

    Returns
    -------
    dict
    """


@pytest.mark.parametrize(
    ("doc", "description", "params", "returns"),
    [
        (None, "", {}, ""),
        ("", "", {}, ""),
        (
            "Analyze sentiment of text using ML model",
            "Analyze sentiment of text using ML model",
            {},
            "",
        ),
        (
            "First line\n    continues here.\n\n    Second paragraph.",
            "First line continues here.",
            {},
            "",
        ),
        (
            GOOGLE,
            "Update customer risk score in database.",
            {
                "customer_id": "The customer's id, as Stripe knows it.",
                "score": "Risk in [0, 1].",
                "extra": "ignored.",
            },
            "Nothing useful.",
        ),
        (
            NUMPY,
            "Predict churn.",
            {"customer_id": "The customer.", "horizon": "Days ahead."},
            "dict",
        ),
        ("Args:\n    x: only a section", "", {"x": "only a section"}, ""),
    ],
)
def test_parse_docstring(doc, description, params, returns):
    parsed = parse_docstring(doc)
    assert parsed.description == description
    assert parsed.params == params
    assert parsed.returns == returns
