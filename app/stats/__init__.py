"""District office statistics (issue 7): pre-aggregated facts kept with every change."""
