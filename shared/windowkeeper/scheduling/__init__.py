"""Follow-ups, window-expiry notices and re-engagement jobs: what runs later, on a schedule.

``followups`` (one EventBridge Scheduler schedule per follow-up), ``sweep`` (the minute sweep over
the sparse ``due-index``), ``jobs`` (re-engagement over many contacts). What happens when a
schedule fires is a plain function in each module; ``scheduler_app`` only routes to it.
"""
