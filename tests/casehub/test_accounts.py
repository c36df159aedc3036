import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.urls import reverse

from tests.submissions.factories import PASSWORD, UserFactory, signed_in

pytestmark = pytest.mark.django_db

LOCKED = "该账号的密码已连续输错 5 次"
NEW_PASSWORD = "党建引领-新密码-2026"


def credentials(username, password):
    return {"username": username, "password": password}


def from_address(address) -> Client:
    return Client(REMOTE_ADDR=address)


def minutes_pass(minutes):
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - timedelta(minutes=minutes)
    )


def sign_in(client, username, password):
    return client.post(reverse("login"), credentials(username, password))


def change_password(client, old_password):
    return client.post(
        reverse("password_change"),
        {
            "old_password": old_password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )


class LoginTests:
    def test_login_page_is_in_chinese_in_the_site_look(self, client):
        page = client.get(reverse("login")).content.decode()
        assert "登录" in page
        assert "人力党群部" in page
        assert 'lang="zh-hans"' in page

    def test_correct_password_signs_in(self, client):
        user = UserFactory(username="shuji")
        response = client.post(
            reverse("login"), {"username": "shuji", "password": PASSWORD}
        )
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(user.pk)

    def test_wrong_password_says_so_in_chinese(self, client):
        UserFactory(username="shuji")
        response = client.post(
            reverse("login"), {"username": "shuji", "password": "nope"}
        )
        assert response.status_code == 200
        assert "请输入一个正确的" in response.content.decode()

    def test_repeated_failures_lock_the_account_with_a_clear_message(self, settings):
        settings.AXES_FAILURE_LIMIT = 3
        UserFactory(username="shuji")
        client = Client()
        for _ in range(3):
            client.post(reverse("login"), credentials("shuji", "nope"))
        response = client.post(
            reverse("login"), {"username": "shuji", "password": PASSWORD}
        )
        assert response.status_code == 429
        page = response.content.decode()
        assert "登录暂时锁定" in page and "30 分钟" in page
        assert "_auth_user_id" not in client.session

    def test_logout_is_post_only(self, client):
        client.force_login(UserFactory())
        assert client.get(reverse("logout")).status_code == 405
        assert client.post(reverse("logout")).status_code == 302
        assert "_auth_user_id" not in client.session


class AccountLockoutTests:
    """The account is locked, not the (account, address) pair."""

    def test_wrong_passwords_from_one_address_lock_the_account_everywhere(self):
        UserFactory(username="shuji")
        attacker = from_address("198.51.100.1")
        for _ in range(4):
            assert sign_in(attacker, "shuji", "nope").status_code == 200
        assert sign_in(attacker, "shuji", "nope").status_code == 429

        owner = from_address("203.0.113.20")
        response = sign_in(owner, "shuji", PASSWORD)
        assert response.status_code == 429
        page = response.content.decode()
        assert LOCKED in page and "30 分钟" in page
        assert "联系部门管理员解除锁定" in page
        assert "_auth_user_id" not in owner.session
        # Other accounts from the attacker's address are untouched.
        UserFactory(username="tongxun")
        assert sign_in(attacker, "tongxun", PASSWORD).status_code == 302

    def test_the_lockout_page_does_not_tell_whether_the_username_exists(self):
        UserFactory(username="shuji")
        pages = []
        for username in ("shuji", "nobody"):
            client = from_address("198.51.100.2")
            for _ in range(5):
                sign_in(client, username, "nope")
            response = sign_in(client, username, "nope")
            assert response.status_code == 429
            pages.append(response.content.decode())
        assert pages[0] == pages[1]

    def test_a_successful_sign_in_forgives_the_accounts_failures(self):
        UserFactory(username="shuji")
        client = from_address("203.0.113.20")
        for _ in range(4):
            sign_in(client, "shuji", "nope")
        assert sign_in(client, "shuji", PASSWORD).status_code == 302
        client.post(reverse("logout"))
        for _ in range(4):
            sign_in(client, "shuji", "nope")
        assert sign_in(client, "shuji", PASSWORD).status_code == 302

    def test_one_address_guessing_many_accounts_is_locked(self, settings):
        settings.AXES_ADDRESS_FAILURE_LIMIT = 12
        for number in range(5):
            UserFactory(username=f"user-{number}")
        sprayer = from_address("198.51.100.3")
        for number in range(4):
            for _ in range(3):  # under the account limit for each
                sign_in(sprayer, f"user-{number}", "123456")
        response = sign_in(sprayer, "user-4", PASSWORD)
        assert response.status_code == 429
        assert "从您所在的网络地址" in response.content.decode()
        # The owners, elsewhere, still sign in.
        assert (
            sign_in(from_address("203.0.113.21"), "user-4", PASSWORD).status_code == 302
        )
        assert (
            sign_in(from_address("203.0.113.22"), "user-0", PASSWORD).status_code == 302
        )

    def test_signing_in_to_ones_own_account_keeps_the_address_count(self, settings):
        settings.AXES_ADDRESS_FAILURE_LIMIT = 8
        UserFactory(username="mine")
        for number in range(3):
            UserFactory(username=f"other-{number}")
        sprayer = from_address("198.51.100.4")
        for _ in range(4):
            sign_in(sprayer, "other-0", "123456")
        assert sign_in(sprayer, "mine", PASSWORD).status_code == 302
        sprayer.post(reverse("logout"))
        for _ in range(4):
            sign_in(sprayer, "other-1", "123456")
        assert sign_in(sprayer, "other-2", PASSWORD).status_code == 429

    def test_the_lock_ends_when_the_page_says_even_if_the_owner_tried(self):
        UserFactory(username="shuji")
        owner = from_address("203.0.113.23")
        for _ in range(5):
            sign_in(owner, "shuji", "nope")
        minutes_pass(20)
        assert sign_in(owner, "shuji", PASSWORD).status_code == 429
        minutes_pass(11)
        assert sign_in(owner, "shuji", PASSWORD).status_code == 302

    def test_the_administrator_unlocks_an_account(self):
        UserFactory(username="shuji")
        client = from_address("198.51.100.5")
        for _ in range(5):
            sign_in(client, "shuji", "nope")
        call_command("axes_reset_username", "shuji", stdout=io.StringIO())
        assert sign_in(client, "shuji", PASSWORD).status_code == 302


class PasswordChangeLockoutTests:
    """Wrong old passwords on the change form count against the account."""

    def test_wrong_old_passwords_lock_the_account_and_sign_the_session_out(self):
        user = UserFactory(username="shuji")
        client = signed_in(user)
        for _ in range(4):
            response = change_password(client, "guess")
            assert response.status_code == 200
            assert "旧密码不正确" in response.content.decode()
        response = change_password(client, "guess")
        assert response.status_code == 429
        assert LOCKED in response.content.decode()
        assert "_auth_user_id" not in client.session
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        # Signing in again, from anywhere, waits for the cool-off.
        assert (
            sign_in(from_address("203.0.113.30"), "shuji", PASSWORD).status_code == 429
        )

    def test_fifteen_guesses_change_nothing(self):
        user = UserFactory(username="shuji")
        client = signed_in(user)
        statuses = [
            change_password(client, f"guess-{n}").status_code for n in range(15)
        ]
        # Four refusals on the form, the lockout, then the sign-in page.
        assert statuses == [200] * 4 + [429] + [302] * 10
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert not user.check_password(NEW_PASSWORD)

    def test_a_locked_account_cannot_change_its_password_even_with_the_right_one(self):
        user = UserFactory(username="shuji")
        client = signed_in(user)
        attacker = from_address("198.51.100.6")
        for _ in range(5):
            sign_in(attacker, "shuji", "nope")
        response = change_password(client, PASSWORD)
        assert response.status_code == 429
        assert LOCKED in response.content.decode()
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        # The owner's session was not the one guessing: it stays signed in.
        assert client.session["_auth_user_id"] == str(user.pk)

    def test_the_typed_passwords_are_not_stored_with_the_failure(self):
        client = signed_in(UserFactory(username="shuji"))
        change_password(client, "my-secret-guess")
        stored = AccessAttempt.objects.get(username="shuji").post_data
        assert "my-secret-guess" not in stored and NEW_PASSWORD not in stored


class PasswordChangeTests:
    def test_password_change(self, client):
        user = UserFactory()
        client.force_login(user)
        page = client.get(reverse("password_change")).content.decode()
        assert "修改密码" in page
        response = client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "党建引领-新密码-2026",
                "new_password2": "党建引领-新密码-2026",
            },
        )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.check_password("党建引领-新密码-2026")


class LanguageTests:
    def test_switching_to_english(self, client):
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        page = client.get(reverse("login")).content.decode()
        assert 'lang="en"' in page
        assert "Sign in" in page

    def test_error_pages_use_the_site_look(self, client):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert "页面不存在" in response.content.decode()
