"""The stock feed: one group per site; the pharmacy pages that show a site's stock or alerts re-read them."""

from __future__ import annotations

from django.http import Http404

from caravane.audit import gate
from caravane.audit.sockets import GatedFeedConsumer
from caravane.core.access import Perm
from caravane.network.models import Site
from caravane.pharmacy.actions import in_stock_scope
from caravane.pharmacy.selectors import stock_group


class StockFeedConsumer(GatedFeedConsumer):
    """ws/pharmacy/stock/<site>/: every change of a site's stock, for a user whose scope reaches it."""

    def group_for(self, user, *, site):
        found = Site.objects.select_related("commune").filter(pk=site).first()
        if found is None:
            raise Http404
        gate.require(user, Perm.VIEW_STOCK, found, in_scope=in_stock_scope(user, found),
                     audit_action="pharmacy.watch_stock", site=found)
        return stock_group(found.pk)
