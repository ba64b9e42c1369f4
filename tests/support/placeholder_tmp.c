void sluice_test_support_placeholder_(void); void sluice_test_support_placeholder_(void) {}
