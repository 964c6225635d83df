"""The finance daily close: the ledger it reconciles, the Stripe side, checks and close marts."""
