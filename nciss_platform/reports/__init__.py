"""Reports: situation reports, public advisories, and the HTML -> PDF machinery other reports reuse."""
