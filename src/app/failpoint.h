/*
 * failpoint.h — named places where a test can make the process die as
 * kill -9 would, at an exact moment no timing could hit reliably (for
 * example between an INSERT that landed and the commit after it).
 *
 * SLUICE_FAILPOINT=name:N in the environment: the Nth time the code passes
 * failpoint("name"), the process sends itself SIGKILL. Without the
 * variable a failpoint is one relaxed atomic load. Only tests set it.
 */
#ifndef SLUICE_APP_FAILPOINT_H
#define SLUICE_APP_FAILPOINT_H

void failpoint(const char *name);

#endif
