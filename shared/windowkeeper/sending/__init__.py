"""The send gate: request models, the send service (policy → Meta → record) and its helpers."""
