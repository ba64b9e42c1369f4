void sluice_app_placeholder_(void); void sluice_app_placeholder_(void) {}
