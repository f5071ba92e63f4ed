"""Static files named by their content, so that a tablet on a slow link downloads each version once.

``collectstatic`` writes every file under a name carrying its content hash (``caravane.3f2a9c1e0b4d.css``),
rewrites the references between them (CSS ``url()``, and the ``import`` statements of ES modules, so that a
module imports its dependencies by their hashed names too), compresses them and records the names in a
manifest. Pages then link the hashed names, and WhiteNoise (or nginx, deploy/nginx/caravane.conf) lets
browsers keep those for a year without asking again: a new version has a new name.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles.storage import StaticFilesStorage
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

# A year, the longest lifetime HTTP caches are asked to honour.
IMMUTABLE_MAX_AGE = 365 * 24 * 60 * 60


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; plain names (served from the apps by WhiteNoise) until collected."""

    support_js_module_import_aggregation = True

    def url(self, name, force=False):
        # Before collectstatic has run (a fresh checkout, the tests) there is no manifest to name files by; a file
        # added since it last ran is not in it: both go out under their plain names rather than failing the page.
        if not force and self.hash_key(urlsplit(unquote(name)).path.strip()) not in self.hashed_files:
            return StaticFilesStorage.url(self, name)
        return super().url(name, force)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with hashed files kept a year (``immutable``: not even revalidated on reload)."""

    FOREVER = IMMUTABLE_MAX_AGE
