from netdraw.cli import main

raise SystemExit(main())
