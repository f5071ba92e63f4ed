"""Network pages: the home dashboard."""

from django.shortcuts import render


def home(request):
    """The landing page after login."""
    return render(request, "network/home.html")
