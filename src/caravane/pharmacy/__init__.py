"""Essential medicines: catalogue, stock ledger per site and unit, dispensing, replenishment and reports."""
