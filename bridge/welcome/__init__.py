"""The welcome of new members (`bridge welcome`): who is new, when to welcome them, the texts.

config  the `welcome:` section of config.yaml
people  the keyed hash that names a member in the store and the ledger
track   who is new, held, due, from the mirror's group members (pure)
plan    the welcome and follow-up Drafts, from templates (pure)
run     the runner: reads what staff can read of the accounts, publishes through the publisher
"""
