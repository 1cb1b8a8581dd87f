"""Sales targets: setting them, and their completion, gap, pace and forecast. (Helper B.)"""
