"""Small layout factories shared by the pages: navbar, KPI tiles, empty states, freshness."""
