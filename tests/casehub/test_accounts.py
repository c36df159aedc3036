import pytest
from django.test import Client
from django.urls import reverse

from tests.submissions.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def credentials(username, password):
    return {"username": username, "password": password}


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
