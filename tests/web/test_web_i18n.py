"""Languages: French by default, Arabic right to left, the switcher works without JavaScript."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_french_is_the_default(nurse_client):
    html = nurse_client.get(reverse("site_list")).content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    assert "Déconnexion" in html and "Unités mobiles" in html


def test_arabic_is_right_to_left_and_translated(nurse_client, network):
    response = nurse_client.post(reverse("set_language"), {"language": "ar", "next": reverse("site_list")})
    assert response.status_code == 302 and response["Location"] == reverse("site_list")
    html = nurse_client.get(reverse("site_list")).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "المواقع" in html and "الوحدات الطبية المتنقلة" in html and "تسجيل الخروج" in html
    assert "Unités mobiles" not in html
    assert '<option value="08">جهة</option>' in html  # filter choices are named in Arabic too


def test_english_can_be_chosen(nurse_client):
    nurse_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = nurse_client.get(reverse("home"), follow=True).content.decode()
    assert '<html lang="en" dir="ltr">' in html and "Mobile units" in html
