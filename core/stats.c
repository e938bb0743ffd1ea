#include "stats.h"

#define STAT_NAME(id, text) [STAT_##id] = #id,
static const char *const names[STAT_COUNT] = {STAT_LIST(STAT_NAME)};
#undef STAT_NAME

#define STAT_TEXT(id, text) [STAT_##id] = text,
static const char *const texts[STAT_COUNT] = {STAT_LIST(STAT_TEXT)};
#undef STAT_TEXT

const char *
stat_name(enum stat_id id)
{
	return (unsigned)id < STAT_COUNT ? names[id] : "?";
}

const char *
stat_explain(enum stat_id id)
{
	return (unsigned)id < STAT_COUNT ? texts[id] : "?";
}
