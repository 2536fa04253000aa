/* Uses constructor_library.c, so the loader loads it (and runs its constructor) at start. */
#include <stdio.h>

int constructor_library_blocks(void);

int main(void) {
  printf("%d blocks made at load\n", constructor_library_blocks());
  return 0;
}
