/* The public header alone, compiled as pedantic C99 (and C++ below). */
#include <ukey/ukey.h>
int ukey_header_compiles(void);
int ukey_header_compiles(void)
{
	return UKEY_OK;
}
