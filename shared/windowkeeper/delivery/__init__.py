"""Delivery on the channels Meta does not carry (``router.ChannelRouter`` routes every send)."""
