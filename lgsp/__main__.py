from lgsp.cli import main

raise SystemExit(main())
