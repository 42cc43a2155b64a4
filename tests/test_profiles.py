"""``load_profile``: a complete file loads; every mistake is an error naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.profile import REQUIRED_KEYS, DataRoute, Profile, ProfileError, load_profile

COMPLETE = """\
name = "users-api"
cookie_name = "fastapiusersauth"
sign_in = "/auth/cookie/login"
sign_in_answers = "cookie-only"
register = "/auth/register"
register_fields = { username = "email", password = "password" }
sign_out = "/auth/cookie/logout"
refresh = ""
identity = "/users/me"
identity_field = "email"
username_template = "{name}@example.com"

[[data]]
route = "/items"
owner_field = "owner"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def without(text: str, key: str) -> str:
    """The complete profile with the line setting ``key`` left out."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{key} =")]
    assert len(kept) == len(lines) - 1
    return "".join(kept)


def replaced(text: str, key: str, value: str) -> str:
    """The complete profile with ``key`` set to the TOML ``value``."""
    return without(text, key).replace("[[data]]", f"{key} = {value}\n\n[[data]]", 1)


def test_a_complete_profile_loads_every_key(tmp_path: Path) -> None:
    """Every key set and valid: the loaded profile carries exactly what the file says."""
    assert load_profile(write(tmp_path, COMPLETE)) == Profile(
        name="users-api",
        cookie_name="fastapiusersauth",
        sign_in="/auth/cookie/login",
        sign_in_answers="cookie-only",
        register="/auth/register",
        register_fields=("email", "password"),
        sign_out="/auth/cookie/logout",
        refresh=None,
        identity="/users/me",
        identity_field="email",
        data=(DataRoute("/items", "owner"),),
        username_template="{name}@example.com",
    )


def test_only_the_required_keys_load_with_defaults(tmp_path: Path) -> None:
    """The required keys alone load; name comes from the file, no data routes by default."""
    text = "".join(line for line in COMPLETE.splitlines(keepends=True)
                   if line.split(" =")[0] in REQUIRED_KEYS)  # fmt: skip
    profile = load_profile(write(tmp_path, text))
    assert profile.name == "profile"
    assert profile.data == ()
    assert profile.identity_field == "email"
    assert profile.login_name("ada") == "ada"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (without(COMPLETE, "identity_field"), "missing identity_field"),
        (without(COMPLETE, "refresh"), "missing refresh"),
        (COMPLETE.replace("name =", "colour = 'red'\nname =", 1), "unknown profile keys colour"),
        (
            replaced(COMPLETE, "username_template", '"{name}.{nope}@example.com"'),
            "names the unknown field 'nope'",
        ),
        (replaced(COMPLETE, "username_template", '"{nope}"'), "must contain {name}"),
        (COMPLETE.replace('owner_field = "owner"\n', ""), "(missing: owner_field)"),
        (COMPLETE + "colour = 1\n", "(unknown: colour)"),  # a key inside the [[data]] table
        (replaced(COMPLETE, "refresh", "false"), "refresh must be a path"),
        (replaced(COMPLETE, "identity", '"users/me"'), "identity must be a path starting with '/'"),
        (replaced(COMPLETE, "identity_field", '""'), "identity_field must be a non-empty string"),
        (replaced(COMPLETE, "sign_in_answers", '"html"'), "sign_in_answers must be 'json'"),
        (
            replaced(COMPLETE, "register_fields", '{ username = "email" }'),
            "register_fields needs exactly username and password",
        ),
        ("identity = [", "is not valid TOML"),
    ],
    ids=[
        "missing-identity-field",
        "missing-refresh",
        "unknown-key",
        "template-unknown-field",
        "template-without-name",
        "data-without-owner-field",
        "data-unknown-key",
        "refresh-not-a-string",
        "route-not-a-path",
        "blank-identity-field",
        "bad-sign-in-answers",
        "register-fields-incomplete",
        "not-toml",
    ],
)
def test_a_bad_profile_names_the_file_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Each mistake is a ProfileError whose message names the file and what is wrong."""
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_profile_file_is_a_profile_error(tmp_path: Path) -> None:
    """A path to no file is a ProfileError saying it cannot be read."""
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(tmp_path / "absent.toml")
