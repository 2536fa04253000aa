/* A statically linked program, which no preload library can enter (dhat-run refuses it). */
#include <stdio.h>

int main(void) {
  puts("static_hello ran");
  return 0;
}
