/*
 * iso8601.c — see iso8601.h. One left-to-right scan; the strict and lenient
 * forms differ only at the separator, the seconds, the fraction mark and the
 * zone, so one function reads both and the flags decide at those points.
 * Range checks come after the syntax of each part, so that "25:00:00" is
 * "hour out of range" rather than "bad syntax".
 */
#include "codec/iso8601.h"

int64_t iso8601_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void iso8601_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int iso8601_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dim[m - 1];
}

/* Exactly `count` digits at s[*i..]; advances *i. */
static int digits(const char *s, size_t n, size_t *i, int count, int *out)
{
    if (*i > n || n - *i < (size_t)count) return -1;
    int v = 0;
    for (int k = 0; k < count; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)count;
    *out = v;
    return 0;
}

/* HH:MM[:SS[.f]] at s[*i..] (seconds optional only when lenient). */
static const char *clock_part(const char *s, size_t n, size_t *i, unsigned flags, iso8601 *out)
{
    int lenient = flags & ISO8601_LENIENT;
    int h, mi, se = 0;
    if (digits(s, n, i, 2, &h) || *i >= n || s[*i] != ':') return "bad syntax";
    (*i)++;
    if (digits(s, n, i, 2, &mi)) return "bad syntax";
    int has_sec = *i < n && s[*i] == ':';
    if (has_sec) {
        (*i)++;
        if (digits(s, n, i, 2, &se)) return "bad syntax";
    } else if (!lenient) {
        return "bad syntax";
    }
    if (h > 23) return "hour out of range";
    if (mi > 59) return "minute out of range";
    if (se > 59) return "second out of range";
    int32_t ns = 0;
    if (has_sec && *i < n && (s[*i] == '.' || (lenient && s[*i] == ','))) {
        size_t start = ++*i;
        while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
            if (*i - start >= 9) {
                if (!(flags & ISO8601_LONG_FRACTION)) return "more than 9 fractional digits";
            } else {
                ns = ns * 10 + (s[*i] - '0');
            }
            (*i)++;
        }
        if (*i == start) return "bad syntax";
        for (size_t k = *i - start; k < 9; k++)
            ns *= 10;
    }
    out->has_time = 1;
    out->sec_of_day = h * 3600 + mi * 60 + se;
    out->nanos = ns;
    return 0;
}

/* The zone, which must be all that is left: none, Z, ±HH:MM; lenient adds
 * z, ±HH and ±HHMM. */
static const char *zone_part(const char *s, size_t n, size_t i, unsigned flags, iso8601 *out)
{
    int lenient = flags & ISO8601_LENIENT;
    out->has_zone = 0;
    out->offset_sec = 0;
    if (i == n) return 0;
    out->has_zone = 1;
    if (s[i] == 'Z' || (lenient && s[i] == 'z')) return i + 1 == n ? 0 : "bad syntax";
    if (s[i] != '+' && s[i] != '-') return "bad syntax";
    int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
    i++;
    if (digits(s, n, &i, 2, &oh)) return "bad syntax";
    if (i < n && s[i] == ':') {
        i++;
        if (digits(s, n, &i, 2, &om)) return "bad syntax";
    } else if (!lenient) {
        return "bad syntax";
    } else if (i < n && digits(s, n, &i, 2, &om)) {
        return "bad syntax";
    }
    if (i != n) return "bad syntax";
    if (oh > 23 || om > 59) return "offset out of range";
    out->offset_sec = sign * (oh * 3600 + om * 60);
    return 0;
}

const char *iso8601_parse(const char *s, size_t n, unsigned flags, iso8601 *out)
{
    size_t i = 0;
    int y, mo, d;
    if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || digits(s, n, &i, 2, &mo) || i >= n ||
        s[i++] != '-' || digits(s, n, &i, 2, &d))
        return "bad syntax";
    if (mo < 1 || mo > 12) return "month out of range";
    if (d < 1 || d > iso8601_days_in_month(y, mo)) return "day out of range";
    out->days = iso8601_days_from_civil(y, mo, d);
    out->has_time = 0;
    out->sec_of_day = 0;
    out->nanos = 0;
    out->has_zone = 0;
    out->offset_sec = 0;
    if (i == n) return 0;
    if (!(s[i] == 'T' || ((flags & ISO8601_LENIENT) && (s[i] == 't' || s[i] == ' '))))
        return "bad syntax";
    i++;
    const char *why = clock_part(s, n, &i, flags, out);
    if (why) return why;
    return zone_part(s, n, i, flags, out);
}

const char *iso8601_parse_time(const char *s, size_t n, iso8601 *out)
{
    size_t i = 0;
    out->days = 0;
    const char *why = clock_part(s, n, &i, 0, out);
    if (why) return why;
    return zone_part(s, n, i, 0, out);
}
