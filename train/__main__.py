from train.loop import main

main()
