import pytest

from petitions.identity import email_domain, normalise_email


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("Jane.Doe@Example.org", "jane.doe@example.org"),
        ("jane.doe+petitions@example.org", "jane.doe+petitions@example.org"),
        ("Jane.Doe+petitions@gmail.com", "janedoe@gmail.com"),
        ("j.a.n.e@googlemail.com", "jane@gmail.com"),
        ("jane+x@outlook.fr", "jane@outlook.fr"),
        ("j.ane+x@outlook.fr", "j.ane@outlook.fr"),
        ("  JANE@ORANGE.FR ", "jane@orange.fr"),
    ],
)
def test_addresses_that_reach_the_same_mailbox_normalise_alike(email, expected):
    assert normalise_email(email) == expected


def test_email_domain_is_lower_case():
    assert email_domain("A@Example.ORG") == "example.org"
